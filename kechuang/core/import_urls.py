from django.urls import path

from kechuang.core import import_views as views

app_name = "imports"
urlpatterns = [
    path("", views.import_list, name="list"),
    path("template/<str:kind>.xlsx", views.import_template, name="template"),
    path("<int:pk>/", views.import_detail, name="detail"),
    path("<int:pk>/progress/", views.import_progress, name="progress"),
    path("<int:pk>/apply/", views.import_apply, name="apply"),
    path("<int:pk>/rejected.xlsx", views.import_rejected, name="rejected"),
    path("<int:pk>/file/", views.import_file, name="file"),
]
