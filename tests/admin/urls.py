"""URLs for masking tests: the real admin plus a site with a test-only ModelAdmin."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin import AdminSite
from django.urls import path

from accounts.models import Device
from meetnow.lib.adminkit import StaffModelAdmin
from meetnow.lib.masking import mask_device_id, mask_ip

site = AdminSite(name="masktest")


class DeviceStaffAdmin(StaffModelAdmin):
    list_display = ("platform", "device_id", "ip_address", "model")
    list_filter = ("platform", "ip_address")
    search_fields = ("device_id", "=ip_address", "model")
    fields = ("user", "platform", "device_id", "ip_address", "model")
    raw_id_fields = ("user",)
    masked_fields = {"device_id": mask_device_id, "ip_address": mask_ip}
    reveal_fields = {"device_id": ("device id", lambda device: device.device_id)}
    reveal_permission = "accounts.delete_device"  # any permission the test can grant


site.register(Device, DeviceStaffAdmin)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("masktest/", site.urls),
]
