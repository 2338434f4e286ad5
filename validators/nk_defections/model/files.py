"""The names of the files a writer leaves in a package folder beside its data.

A merge writes through a journal under a lock (:mod:`nk_defections.write.journal`); the checks
look for a journal left behind. Both take the names from here.
"""

from __future__ import annotations

#: The journal of a write in progress, in the package folder: present only between its commit
#: point and the last rename, or after a writer was killed in between.
JOURNAL = ".nk-defections-journal.json"
#: The lock that serialises writers, in the package folder.
LOCK = ".nk-defections.lock"
#: What a new file's name ends with until it is renamed over its target.
TEMP_SUFFIX = ".nk-new"
