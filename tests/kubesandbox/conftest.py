from __future__ import annotations

import shutil

import pytest

requires_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
