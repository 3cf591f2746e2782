from django.urls import path

from kechuang.rules import views

app_name = "rules"
urlpatterns = [
    path("", views.rule_list, name="list"),
    path("new/", views.rule_create, name="create"),
    path("<int:pk>/", views.rule_detail, name="detail"),
    path("<int:pk>/edit/", views.rule_edit, name="edit"),
    path("<int:pk>/publish/", views.rule_publish, name="publish"),
    path("<int:pk>/sandbox/", views.sandbox, name="sandbox"),
    path("<int:pk>/sandbox/export/", views.sandbox_export, name="sandbox-export"),
    path("variables/", views.variable_list, name="variables"),
    path("variables/new/", views.variable_create, name="variable-create"),
    path("snapshots/", views.snapshot_list, name="snapshots"),
    path("snapshots/run/", views.snapshot_run, name="snapshot-run"),
    path("enterprise/<int:enterprise_id>/", views.enterprise_verdicts, name="enterprise"),
    path("enterprise/<int:enterprise_id>/<int:rule_id>/", views.explain_view, name="explain"),
]
