SELECT article_id FROM articles_needing_story;
