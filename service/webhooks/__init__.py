"""Partner webhooks: Kintrace tells a partner society's system that something changed.

The outbound half, free of the database:

    signing     Standard Webhooks signatures (`webhook-id`, `-timestamp`, `-signature`)
    ssrf        which endpoint URLs and addresses may be called (`EndpointPolicy`)
    transport   one delivery attempt over a client that connects only to vetted addresses

Errors: `ssrf.UnsafeEndpoint` and `signing.InvalidSignature` are `ValueError`s; `deliver`
never raises on network errors and reports every failure in its `DeliveryResult`.
"""
