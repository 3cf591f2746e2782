from django.urls import path

from kechuang.plans import views

app_name = "plans"
urlpatterns = [
    path("", views.plan_list, name="list"),
    path("across/", views.cross_plan, name="across"),
    path("import/", views.plan_import, name="import"),
    path("import/<int:pk>/", views.plan_import_review, name="import-review"),
    path("units/", views.unit_list, name="units"),
    path("tasks/", views.task_list, name="tasks"),
    path("tasks/<int:pk>/", views.task_detail, name="task"),
    path("tasks/<int:pk>/status/", views.task_status, name="task-status"),
    path("tasks/<int:pk>/milestones/", views.milestone_add, name="milestone-add"),
    path("milestones/<int:pk>/toggle/", views.milestone_toggle, name="milestone-toggle"),
    path("indicators/<int:pk>/", views.indicator_detail, name="indicator"),
    path("indicators/<int:pk>/edit/", views.indicator_edit, name="indicator-edit"),
    path(
        "indicators/<int:pk>/lapsing.xlsx", views.indicator_lapsing_export, name="indicator-lapsing"
    ),
    path("<int:pk>/", views.plan_detail, name="detail"),
    path("<int:pk>/edit/", views.plan_edit, name="edit"),
    path("<int:pk>/report.<str:fmt>", views.plan_export, name="export"),
]
