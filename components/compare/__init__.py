"""The Compare page: which runs it shows, their digests, and Inspect's views for each."""
