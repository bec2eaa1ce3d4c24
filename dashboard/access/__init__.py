"""Who is asking and may they: principals, passwords, sessions, CSRF, rate limits, security headers, county binding, the sign-in page."""
