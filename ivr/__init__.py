"""Helpline phone menu: calm guidance on image-based sexualised violence, and a key press to
the counselling hotline that is open right now."""
