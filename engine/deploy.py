"""Deploying BPMN files: each distinct file content is a new definition version."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .audit import AuditLog
from .errors import DeploymentError, NotFound
from .models import ProcessDefinition
from .runtime import Actor, Runtime, content_hash


class Deployer:
    def __init__(self, session: Session, runtime: Runtime, audit: AuditLog) -> None:
        self.session = session
        self.runtime = runtime
        self.audit = audit

    def deploy_directory(self, directory: Path, actor: Actor, at: datetime) -> list[ProcessDefinition]:
        files = sorted(Path(directory).glob("*.bpmn"))
        if not files:
            raise DeploymentError(f"{directory}: no .bpmn files to deploy")
        deployed: list[ProcessDefinition] = []
        for path in files:
            deployed.extend(self.deploy_file(path, actor, at))
        return deployed

    def deploy_file(self, path: Path, actor: Actor, at: datetime) -> list[ProcessDefinition]:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise DeploymentError(f"{path}: cannot be read: {error}") from None
        return self.deploy_text(text, Path(path).name, actor, at)

    def deploy_text(self, text: str, filename: str, actor: Actor, at: datetime) -> list[ProcessDefinition]:
        """Validate and store; unchanged content returns the version already deployed."""
        parsed = self.runtime.parse(text, filename)
        digest = content_hash(text)
        results = []
        for process_id, process in parsed.items():
            existing = self.session.scalars(
                select(ProcessDefinition).where(
                    ProcessDefinition.process_id == process_id, ProcessDefinition.content_sha256 == digest
                )
            ).first()
            if existing is not None:
                results.append(existing)
                continue
            newest = self.session.scalar(
                select(func.max(ProcessDefinition.version)).where(ProcessDefinition.process_id == process_id)
            )
            definition = ProcessDefinition(
                process_id=process_id,
                name=process.name,
                version=(newest or 0) + 1,
                content_sha256=digest,
                filename=filename,
                bpmn_xml=text,
                deployed_at=at,
                deployed_by=actor.user_id,
            )
            self.session.add(definition)
            self.session.flush()
            self.audit.record(
                at, actor.user_id, "definition_deployed",
                data={"process_id": process_id, "version": definition.version, "sha256": digest},
            )
            results.append(definition)
        return results

    def newest(self, process_id: str) -> ProcessDefinition:
        definition = self.session.scalars(
            select(ProcessDefinition)
            .where(ProcessDefinition.process_id == process_id)
            .order_by(ProcessDefinition.version.desc())
            .limit(1)
        ).first()
        if definition is None:
            raise NotFound(f"No process '{process_id}' has been deployed")
        return definition
