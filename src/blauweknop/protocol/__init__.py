"""The framework-free protocol core: keys, SD-JWT (VC), status lists and the scheme document.

Recipes to use: :mod:`.sdjwt_vc` (issue, present, verify credentials), :mod:`.status_list`,
:mod:`.scheme_document`, :mod:`.jwk` and :mod:`.identifiers`; for sharing with a requester (Plus)
:mod:`.openid4vp` (requests and answers, with :mod:`.dcql` queries), :mod:`.client_assertion`
(private_key_jwt) and :mod:`.consent_receipt` (TS 27560). The byte-level pieces (:mod:`.encoding`,
:mod:`.jws`, :mod:`.sdjwt`) sit below them. Nothing here imports Django.
"""
