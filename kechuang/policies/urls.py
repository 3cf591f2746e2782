from django.urls import path

from kechuang.policies import views

app_name = "policies"
urlpatterns = [
    path("", views.policy_list, name="list"),
    path("new/", views.policy_create, name="create"),
    path("mine/", views.my_matches, name="mine"),
    path("<int:pk>/", views.policy_detail, name="detail"),
    path("<int:pk>/edit/", views.policy_edit, name="edit"),
    path("<int:pk>/status/", views.policy_status, name="status"),
    path("<int:pk>/attach/", views.attachment_add, name="attach"),
    path("<int:pk>/items/new/", views.item_create, name="item-create"),
    path("items/<int:pk>/", views.item_detail, name="item"),
    path("items/<int:pk>/edit/", views.item_edit, name="item-edit"),
    path("items/<int:pk>/eligible/", views.item_eligible, name="item-eligible"),
    path("items/<int:pk>/eligible/export/", views.item_eligible_export, name="item-export"),
    path("items/<int:pk>/push/", views.item_push, name="item-push"),
]
