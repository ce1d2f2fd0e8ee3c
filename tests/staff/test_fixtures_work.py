from booking.models import Practitioner


def test_each_role_fixture_is_staff_in_its_group(reception, clinician, editor):
    assert reception.groups.get().name == "Reception"
    assert clinician.groups.get().name == "Clinician"
    assert editor.groups.get().name == "Content editor"
    assert all(u.is_staff for u in (reception, clinician, editor))
    assert Practitioner.objects.get(user=clinician).display_name == "Dr Own"
