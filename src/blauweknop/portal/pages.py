"""Rendering from async views: templates read the session and the user, which hit the database."""

from asgiref.sync import sync_to_async
from django.shortcuts import render

arender = sync_to_async(render)
