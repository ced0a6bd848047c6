from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("kursus/", views.course_list, name="list"),
    path("kursus/<int:pk>/", views.course_detail, name="detail"),
    path("lembaga/", views.institution_courses, name="institution_courses"),
    path("lembaga/afiliasi/", views.institution_affiliations, name="institution_affiliations"),
    path("mitra/afiliasi/", views.platform_affiliations, name="platform_affiliations"),
    path("lembaga/kursus/baru/", views.institution_course_new, name="institution_course_new"),
    path("lembaga/kursus/<int:pk>/", views.institution_course, name="institution_course"),
    path("lembaga/kursus/<int:pk>/ubah/", views.institution_course_edit, name="institution_course_edit"),
    path("lembaga/kursus/<int:pk>/ajukan/", views.institution_course_submit, name="institution_course_submit"),
    path("lembaga/kursus/<int:pk>/sesi/", views.institution_course_sessions, name="institution_course_sessions"),
    path(
        "lembaga/kursus/<int:pk>/versi-baru/",
        views.institution_course_new_version,
        name="institution_course_new_version",
    ),
]
