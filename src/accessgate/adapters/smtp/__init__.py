"""Email over SMTP (aiosmtplib) and the email templates (Jinja2).

``renderer`` turns a templated :class:`~accessgate.ports.mailer.EmailMessage`
into a subject, a plain-text body and an HTML alternative; ``mailer`` sends it.
The console mailer reuses the renderer.
"""
