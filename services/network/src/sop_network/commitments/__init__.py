"""A safety-network member's own commitments: proposed by the member, confirmed or declined by the worker."""
