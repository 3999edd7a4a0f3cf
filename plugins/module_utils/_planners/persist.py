# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planning ``persist``: the owner's saved document, the unit that restores it at boot, and the
engine that unit runs (see _persist), as one action with its undo.

PRIVATE: not a public API of the collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

from ansible_collections.netvirt.linux.plugins.module_utils._ops import INSTALL_PERSISTENCE
from ansible_collections.netvirt.linux.plugins.module_utils._persist import (
    ENGINE_DIR, LABS_DIR, UNIT_DIR, UNIT_HEADER, UNIT_TEMPLATE, describe_lab, engine_files, lab_path, render_lab,
    render_unit, unit_link, unit_name,
)
from ansible_collections.netvirt.linux.plugins.module_utils._planners._base import PlannerBase

TEMPLATE_PATH = os.path.join(UNIT_DIR, UNIT_TEMPLATE)


class PersistPlanning(PlannerBase):

    def plan_persist(self):
        """``persist`` True saves the document and enables the owner's unit; False undoes that, and the
        last owner to stop takes the template and the engine with it; None leaves all as it is."""
        persist = self.doc.get('persist')
        if persist is None:
            return
        owner = self.owner
        lab, link = lab_path(owner), unit_link(owner)
        old_lab, old_link = self.reader.file(lab), self.reader.symlink(link)
        old_unit = self.reader.file(TEMPLATE_PATH)
        engine_now = self.reader.files_under(ENGINE_DIR)
        files, links, parts = {}, {}, []
        if persist:
            content = render_lab(owner, persist['document'], self.purge, persist['timeout'])
            if old_lab != content:
                files[lab] = content
                parts.append('%s %s' % ('save' if old_lab is None else 'update', lab))
            unit = render_unit(sys.executable)
            if old_unit != unit:
                if old_unit is not None and not old_unit.startswith(UNIT_HEADER) and \
                        not self.check_ours('persist', 'unit %s' % TEMPLATE_PATH, None,
                                            ['replace %s' % TEMPLATE_PATH]):
                    return
                files[TEMPLATE_PATH] = unit
                parts.append('%s %s' % ('install' if old_unit is None else 'update', TEMPLATE_PATH))
            engine = dict((os.path.join(ENGINE_DIR, rel), source) for rel, source in engine_files().items())
            engine.update((path, None) for path in engine_now if path not in engine)
            stale = dict((path, source) for path, source in engine.items() if self.reader.file(path) != source)
            if stale:
                files.update(stale)
                parts.append('%s the restore engine in %s (%d files)' % (
                    'update' if engine_now else 'install', ENGINE_DIR, len(stale)))
            if old_link != TEMPLATE_PATH:
                links[link] = TEMPLATE_PATH
                parts.append('enable %s' % unit_name(owner))
        else:
            if old_link is not None:
                links[link] = None
                parts.append('disable %s' % unit_name(owner))
            if old_lab is not None:
                files[lab] = None
                parts.append('remove %s' % lab)
            if not [path for path in self.reader.files_under(LABS_DIR) if path.endswith('.json') and path != lab]:
                if old_unit is not None and old_unit.startswith(UNIT_HEADER):
                    files[TEMPLATE_PATH] = None
                    parts.append('remove %s' % TEMPLATE_PATH)
                if engine_now:
                    files.update((path, None) for path in engine_now)
                    parts.append('remove the restore engine from %s' % ENGINE_DIR)
        before = self.persisted(old_lab, old_link)
        after = self.persisted(files.get(lab, old_lab), links.get(link, old_link))
        if before is not None or after is not None:
            self.plan.differences.track('persist %s' % owner, before, after)
        if not parts:
            return
        reload = self.reader.systemd_running()
        text = '%s lab %s: %s%s' % ('persist' if persist else 'stop persisting', owner, ', '.join(parts),
                                    ', reload systemd' if reload else '')
        self.add('persist', text, INSTALL_PERSISTENCE(files=files, links=links, reload=reload),
                 INSTALL_PERSISTENCE(files=dict((path, self.reader.file(path)) for path in files),
                                     links=dict((path, self.reader.symlink(path)) for path in links), reload=reload))

    def persisted(self, lab, link):
        """How the diff shows an owner's persistence: None when there is none."""
        if lab is None and link is None:
            return None
        return {'document': describe_lab(lab), 'unit': unit_name(self.owner), 'enabled': link == TEMPLATE_PATH}
