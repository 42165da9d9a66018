-- Story rows a publish copies.
SELECT count(*) FROM publish_stories_new;
