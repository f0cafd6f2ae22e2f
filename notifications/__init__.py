"""Who is told what, when: templates, the outbox, email and in-app delivery.

The outbox and its delivery jobs are built under issue 4; the engine never imports
this package (imports point web -> notifications -> domain -> engine).
"""
