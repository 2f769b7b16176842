"""Student privacy: per-person export, deletion on request, and retention of closed plans."""
