"""Project-wide models: the user (keyed by email) and the clinic's own details."""

from decimal import Decimal
from urllib.parse import quote, urlencode

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import caching


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if not extra_fields["is_staff"] or not extra_fields["is_superuser"]:
            raise ValueError("A superuser must have is_staff and is_superuser")
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)


class User(AbstractBaseUser, PermissionsMixin):
    """Anyone who signs in: patients and staff alike (staff have is_staff)."""

    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    is_staff = models.BooleanField(
        _("staff status"),
        default=False,
        help_text=_("Can sign in to the clinic's admin."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]

    def __str__(self):
        return self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self):
        return self.full_name or self.email

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email


class SingletonModel(models.Model):
    """A settings row staff edit in the admin: one row, read through the cache.

    ``current()`` costs no query once kept; saving it clears the kept copy
    (clinic/caching.py). Until staff save it, ``unsaved_default()`` stands in
    (never written).
    """

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.pk = 1  # one row only
        super().save(*args, **kwargs)

    @classmethod
    def unsaved_default(cls):
        return cls()

    @classmethod
    def current(cls):
        return caching.read_through(
            caching.settings_row(cls),
            "1",
            lambda: cls.objects.filter(pk=1).first() or cls.unsaved_default(),
        )


class ClinicDetails(SingletonModel):
    """The clinic's name and contact details, shown on every page and email, and the
    directions ("Finding us") on the booked page, My appointments and the emails before
    a visit.

    One row, edited by staff in the admin; ``ClinicDetails.current()`` reads it
    through the cache so the footer costs no query.
    """

    name = models.CharField(_("name"), max_length=120)
    address = models.TextField(_("address"), help_text=_("One line per row of the address."))
    phone = models.CharField(_("phone"), max_length=40)
    email = models.EmailField(_("email"), help_text=_("Where the clinic's notices are sent."))
    opening_hours = models.TextField(
        _("opening hours"), help_text=_("One line per row, e.g. 'Monday to Friday: 9am to 6pm'.")
    )
    travel_notes = models.TextField(
        _("travel notes"),
        blank=True,
        help_text=_(
            "How to get here: parking, buses and trains, which door to use. One line per row."
        ),
    )
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(-90)), MaxValueValidator(Decimal(90))],
        help_text=_(
            "With the longitude, puts a pin at the door on the map, e.g. 51.507600. "
            "Leave both empty and the map searches for the address."
        ),
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(-180)), MaxValueValidator(Decimal(180))],
        help_text=_("For example -0.099400 (below zero west of Greenwich)."),
    )

    class Meta:
        verbose_name = _("clinic details")
        verbose_name_plural = _("clinic details")

    def __str__(self):
        return self.name

    @property
    def address_lines(self):
        return [line.strip() for line in self.address.splitlines() if line.strip()]

    @property
    def opening_hours_lines(self):
        return [line.strip() for line in self.opening_hours.splitlines() if line.strip()]

    @property
    def travel_notes_lines(self):
        return [line.strip() for line in self.travel_notes.splitlines() if line.strip()]

    def clean(self):
        super().clean()
        if (self.latitude is None) != (self.longitude is None):
            raise ValidationError(
                _("Give both the latitude and the longitude, or leave both empty.")
            )

    @property
    def map_url(self) -> str:
        """The clinic on OpenStreetMap: a pin at the coordinates, else a search for the address."""
        if self.latitude is not None and self.longitude is not None:
            # 51.5068, as given or as read back (51.506800): the same link either way.
            lat, lon = (f"{Decimal(str(v)).normalize():f}" for v in (self.latitude, self.longitude))
            return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=18/{lat}/{lon}"
        query = urlencode({"query": ", ".join(self.address_lines)}, quote_via=quote)
        return f"https://www.openstreetmap.org/search?{query}"

    @classmethod
    def unsaved_default(cls) -> "ClinicDetails":
        """Shown until staff fill the details in (never saved)."""
        return cls(
            name=gettext("Our clinic"),
            address=gettext("Address not set yet"),
            phone=gettext("Phone not set yet"),
            email="clinic@example.com",
            opening_hours=gettext("Opening hours not set yet"),
        )
