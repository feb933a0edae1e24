"""Personal data in the channels under PIPL: the transcripts and Rasa's tracker store purged after
the retention (Art. 19, :mod:`channels.privacy.retention`), and an enterprise's withdrawal of
consent (Art. 47, :mod:`channels.privacy.withdrawal`) from the web page, WeChat or the desk."""
