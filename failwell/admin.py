"""The admin site's own words; each app registers its models in its admin.py."""

from django.contrib import admin

admin.site.site_header = "failwell administration"
admin.site.site_title = "failwell admin"
admin.site.index_title = "Reference data, institutions and their history"
