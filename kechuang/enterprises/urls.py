from django.urls import path

from kechuang.enterprises.views import config, records, register

app_name = "enterprises"
urlpatterns = [
    path("", register.enterprise_list, name="list"),
    path("export.xlsx", register.enterprise_export, name="export"),
    path("new/", register.enterprise_edit, name="create"),
    path("mine/", register.my_enterprise, name="mine"),
    path("<int:pk>/", register.enterprise_detail, name="detail"),
    path("<int:pk>/edit/", register.enterprise_edit, name="edit"),
    path("<int:pk>/qualifications/new/", records.qualification_edit, name="qualification-add"),
    path(
        "<int:pk>/qualifications/<int:qualification_pk>/",
        records.qualification_edit,
        name="qualification-edit",
    ),
    path("<int:pk>/report/", records.report_edit, name="report-edit"),
    path("reports/<int:report_pk>/confirm/", records.report_confirm, name="report-confirm"),
    path("<int:pk>/visits/new/", records.visit_add, name="visit-add"),
    path("<int:pk>/watch-lists/add/", records.watch_add, name="watch-add"),
    path("watch-members/<int:member_pk>/remove/", records.watch_remove, name="watch-remove"),
    path("issues/", records.issue_list, name="issues"),
    path("issues/<int:issue_pk>/", records.issue_edit, name="issue-edit"),
    path("expiring/", records.expiring_list, name="expiring"),
    path("expiring/export.xlsx", records.expiring_export, name="expiring-export"),
    path("ladder/", config.ladder, name="ladder"),
    path("ladder/recompute/", config.ladder_recompute, name="ladder-recompute"),
    path("ladder/criteria/<str:stage>/", config.ladder_criteria_edit, name="ladder-criteria"),
    path("qualification-types/", config.qualification_types, name="qualification-types"),
    path("qualification-types/new/", config.qualification_type_edit, name="qualification-type-add"),
    path(
        "qualification-types/<int:pk>/",
        config.qualification_type_edit,
        name="qualification-type-edit",
    ),
    path("watch-lists/", config.watch_lists, name="watch-lists"),
    path("watch-lists/new/", config.watch_list_edit, name="watch-list-add"),
    path("watch-lists/<int:pk>/", config.watch_list_detail, name="watch-list"),
    path("watch-lists/<int:pk>/edit/", config.watch_list_edit, name="watch-list-edit"),
]
