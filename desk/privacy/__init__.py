"""Personal data in the desk's records under PIPL: erasing an enterprise's contact details when it
withdraws its consent (Art. 47), and those of closed cases past the retention (Art. 19)."""
