"""Wire contracts of the Kintrace API: request and response models, problems, paging.

This package imports pydantic only (and defusedxml, to read PFIF safely). The service converts
between these models, its table models and the matching engine's internal types.
"""
