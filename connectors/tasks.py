from connectors.services import inbox_process


def inbox_process_task(message_id: int) -> str:
    return inbox_process(message_id=message_id).status
