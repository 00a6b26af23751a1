"""Domain code of the mwaa-gate admin app: models, validation, repositories, steps, adapters."""
