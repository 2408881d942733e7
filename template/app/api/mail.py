"""The mail module's dependency: `mail: MailServiceDep` in an endpoint's parameters."""

from typing import Annotated

from fastapi import BackgroundTasks, Depends

from app.api.deps import SettingsDep
from app.mail.service import MailService


async def get_mail_service(settings: SettingsDep, background: BackgroundTasks) -> MailService:
    return MailService(settings, background)


MailServiceDep = Annotated[MailService, Depends(get_mail_service)]
