from django.urls import path

from kechuang.core import views

app_name = "core"
urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("profile/token/", views.rotate_token, name="rotate-token"),
    path("users/", views.user_list, name="users"),
    path("users/<int:pk>/reset-password/", views.user_reset_password, name="user-reset-password"),
    path("audit/", views.audit_log, name="audit"),
    path("audit/<str:app_label>/<str:model>/<str:pk>/", views.object_audit, name="object-audit"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_mark_read, name="notifications-read"),
]
