from hub.imports.services import import_job_run, import_job_sweep


def import_job_run_task(job_id: int) -> str:
    return import_job_run(job_id=job_id).status


def import_job_sweep_task() -> dict[str, int]:
    return import_job_sweep()
