"""What the browser loads besides live values: each screen's index page, compressed static files, typed callback replies, the wall's font."""
