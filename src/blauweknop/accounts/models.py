"""The user model that django-digid-eherkenning's backends (real and mock) log citizens in with."""

from __future__ import annotations

import uuid
from typing import Any

from digid_eherkenning.managers import BaseDigidManager
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models


class DigidManager(BaseDigidManager):
    """What the DigiD backends call: find a user by BSN, or make one."""

    def get_by_bsn(self, bsn: str) -> User:
        return self.get_queryset().get(bsn=bsn)

    def digid_create(self, bsn: str, **kwargs: Any) -> User:
        # The username is random: the backends log it, and it must never reveal the BSN.
        user = self.model(username=f"digid-{uuid.uuid4().hex[:12]}", bsn=bsn)
        user.set_unusable_password()
        user.save()
        return user


class User(AbstractUser):
    """A citizen (BSN set, no password) or a staff member (password, no BSN)."""

    bsn = models.CharField(max_length=9, blank=True, default="", db_index=True)

    objects = UserManager()
    digid_objects = DigidManager()

    def __repr__(self) -> str:
        return f"User(pk={self.pk})"


class RevokedOperatorKey(models.Model):
    """An operator key id a verified scheme document listed as revoked: this deployment never trusts it again.

    Kept in every role's database (this app is in every role), so a restart does not forget what a document
    said (blauweknop.scheme.client). Written only from verified documents; never edited or removed.
    """

    kid = models.CharField(max_length=200, primary_key=True)
    learnt_at = models.DateTimeField(auto_now_add=True)
