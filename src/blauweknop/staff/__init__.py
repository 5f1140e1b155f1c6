"""The staff login shared by the requester portal and the scheme operator: a password, then a second factor.

One implementation (:class:`blauweknop.staff.login.StaffLogin`), configured per portal with who counts as staff,
its URL namespace, where to go after logging in and the base template. It imports no role's app, so a deployment
that plays only one of the two roles loads nothing of the other.
"""
