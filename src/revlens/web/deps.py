"""Typed dependencies that routes declare to get the process's resources."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from revlens.config import Settings
from revlens.db.session import Database
from revlens.tasks.queue import Queue


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def _queue(request: Request) -> Queue:
    queue: Queue = request.app.state.queue
    return queue


SettingsDep = Annotated[Settings, Depends(_settings)]
DatabaseDep = Annotated[Database, Depends(_database)]
QueueDep = Annotated[Queue, Depends(_queue)]
