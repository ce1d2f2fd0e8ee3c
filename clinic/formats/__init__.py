"""The clinic's own date and time formats (settings.FORMAT_MODULE_PATH), over Django's locales'.

Django looks a format up in clinic.formats.<locale> before django.conf.locale.<locale>,
and a name a module does not define falls through to the next one:
https://docs.djangoproject.com/en/5.2/topics/i18n/formatting/#creating-custom-format-files
"""
