"""Type hints of the native module; use the functions of ``rulebook``."""

from typing import List, Optional, Tuple

import pyarrow as pa

class NativeError(Exception): ...

class Rulebooks:
    @staticmethod
    def load(path: str) -> "Rulebooks": ...
    def describe(self) -> str: ...
    def evaluate(self, case: str, date: Optional[str] = None, explain: bool = False) -> str: ...
    def evaluate_batches(
        self,
        schema: pa.Schema,
        batches: List[pa.RecordBatch],
        date: Optional[str] = None,
        threads: Optional[int] = None,
        off_period: bool = False,
    ) -> Tuple[List[pa.RecordBatch], pa.Schema, Tuple[int, int, int, int]]: ...

def impact_summary(
    old: Rulebooks,
    new: Rulebooks,
    schema: pa.Schema,
    batches: List[pa.RecordBatch],
    date: Optional[str] = None,
) -> str: ...
def impact_report(
    old: Rulebooks, new: Rulebooks, summaries: List[str], date: Optional[str] = None
) -> str: ...
