-- What a rebuild leaves: the stored articles and the stories they form.
SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM stories);
