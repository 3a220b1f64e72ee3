"""Django admin for the register: every model, with search and filters."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from clusters.models import (
    Cluster,
    ClusterMembership,
    Firm,
    FirmMember,
    OfficialScope,
    Region,
    RegisterUpload,
)
from clusters.services import firm_size_class, region_update_paths


class RegionForm(forms.ModelForm):
    class Meta:
        model = Region
        fields = ["code", "name_zh", "name_en", "level", "parent"]

    def clean_parent(self) -> Region | None:
        """The parent, refused when it is the region itself or one of its sub-regions."""
        parent = self.cleaned_data.get("parent")
        region = self.instance
        if parent is not None and region.pk and f"/{region.pk}/" in parent.path:
            raise forms.ValidationError(_("A region cannot sit under itself or its sub-regions."))
        return parent


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    form = RegionForm
    list_display = ["name_zh", "name_en", "code", "level", "parent", "path"]
    list_filter = ["level"]
    search_fields = ["name_zh", "name_en", "code"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["path"]

    def save_model(self, request: HttpRequest, obj: Region, form: Any, change: bool) -> None:
        """Save, then keep the materialised paths of the region and its subtree right."""
        super().save_model(request, obj, form, change)
        region_update_paths(obj)


class MembershipInline(admin.TabularInline):
    model = ClusterMembership
    extra = 0
    autocomplete_fields = ["firm", "cluster"]


@admin.register(Cluster)
class ClusterAdmin(admin.ModelAdmin):
    list_display = ["slug", "name_zh", "name_en", "kind", "region", "lead_industry"]
    list_filter = ["kind", "region__level"]
    search_fields = ["slug", "name_zh", "name_en", "region__name_zh", "region__code"]
    autocomplete_fields = ["region"]
    prepopulated_fields = {"slug": ["name_en"]}


class FirmMemberInline(admin.TabularInline):
    model = FirmMember
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Firm)
class FirmAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "uscc",
        "region",
        "industry_section",
        "industry_division",
        "employees",
        "revenue_10k_cny",
        "size_class",
        "contact_person",
        "contact_email",
    ]
    list_filter = ["size_class", "industry_section", "industry_division", "region__level"]
    search_fields = ["name", "uscc", "contact_person", "contact_email"]
    autocomplete_fields = ["region"]
    readonly_fields = ["size_class", "created_at", "updated_at"]
    inlines = [MembershipInline, FirmMemberInline]
    list_select_related = ["region"]
    show_full_result_count = False

    def save_model(self, request: HttpRequest, obj: Firm, form: Any, change: bool) -> None:
        """Normalise the code and derive the size class before saving."""
        obj.uscc = obj.uscc.strip().upper()
        obj.size_class = firm_size_class(obj)
        super().save_model(request, obj, form, change)


@admin.register(ClusterMembership)
class ClusterMembershipAdmin(admin.ModelAdmin):
    list_display = ["firm", "cluster", "start_date"]
    list_filter = ["cluster__kind", "start_date"]
    search_fields = ["firm__name", "firm__uscc", "cluster__slug", "cluster__name_zh"]
    autocomplete_fields = ["firm", "cluster"]
    list_select_related = ["firm", "cluster"]


@admin.register(FirmMember)
class FirmMemberAdmin(admin.ModelAdmin):
    list_display = ["user", "firm", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email", "firm__name", "firm__uscc"]
    autocomplete_fields = ["user", "firm"]
    list_select_related = ["user", "firm"]


@admin.register(OfficialScope)
class OfficialScopeAdmin(admin.ModelAdmin):
    list_display = ["user", "cluster", "region"]
    list_filter = ["region__level", "cluster__kind"]
    search_fields = ["user__username", "user__email", "cluster__slug", "region__name_zh"]
    autocomplete_fields = ["user", "cluster", "region"]
    list_select_related = ["user", "cluster", "region"]


@admin.register(RegisterUpload)
class RegisterUploadAdmin(admin.ModelAdmin):
    list_display = ["original_name", "cluster", "uploaded_by", "status", "rows", "created_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["original_name", "cluster__slug", "uploaded_by__username"]
    readonly_fields = [f.name for f in RegisterUpload._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Uploads come from the import page only."""
        return False
