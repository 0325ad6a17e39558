from hub.imports.services import import_job_run


def import_job_run_task(job_id: int) -> str:
    return import_job_run(job_id=job_id).status
