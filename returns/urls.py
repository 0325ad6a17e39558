from django.urls import path

from returns.api.returns import ReturnsView, ReturnView

urlpatterns = [
    path("api/v1/returns/", ReturnsView.as_view(), name="api-returns"),
    path("api/v1/returns/<str:number>/", ReturnView.as_view(), name="api-return"),
]
