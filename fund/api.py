"""The ninja API root: /api/v1/. Apps' routers are mounted by dotted path."""

from ninja import NinjaAPI

from fund.auth import StaffDocsAccess

api = NinjaAPI(
    title="Defense Fund API",
    version="1",
    urls_namespace="api",
    docs_decorator=StaffDocsAccess.decorator,
)
