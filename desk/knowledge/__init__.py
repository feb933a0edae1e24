"""Knowledge curation: the database holds every entry and each of its versions; publishing
brings the index (and every cache of the knowledge, in every process) to the new version."""
