"""Ray's `ray._raylet` names that public Ray programs import: the ref and generator types.

Ray's documentation imports `ObjectRefGenerator` from `ray._raylet` (the
module Ray's core types are compiled into) to test what `ray.wait` returned.
The simulator has no raylet; this module gives those programs the same
classes `ray` itself exports, and nothing else.
"""

from dsai.mockray.generator import DynamicObjectRefGenerator, ObjectRefGenerator
from dsai.mockray.object_ref import ObjectRef

StreamingObjectRefGenerator = ObjectRefGenerator  # Ray 2.60 keeps the old name as an alias

__all__ = ["ObjectRef", "ObjectRefGenerator", "StreamingObjectRefGenerator", "DynamicObjectRefGenerator"]
