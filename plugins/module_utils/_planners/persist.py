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

from ansible_collections.netvirt.linux.plugins.module_utils._ops import INSTALL_PERSISTENCE, PARTIAL_FILE_SUFFIX
from ansible_collections.netvirt.linux.plugins.module_utils._persist import (
    BOOTSTRAP, ENGINE_DIR, HEADER, LABS_DIR, UNIT_DIR, UNIT_TEMPLATE, describe_lab, engine_files, exec_start,
    lab_path, render_lab, render_unit, unit_link, unit_name,
)
from ansible_collections.netvirt.linux.plugins.module_utils._planners._base import PlannerBase

TEMPLATE_PATH = os.path.join(UNIT_DIR, UNIT_TEMPLATE)
BOOTSTRAP_PATH = os.path.join(ENGINE_DIR, BOOTSTRAP)


class PersistPlanning(PlannerBase):

    def plan_persist(self):
        """``persist`` True saves the document and enables the owner's unit; False undoes that, and the
        last owner to stop takes the template and the engine with it; None leaves all as it is."""
        persist = self.doc.get('persist')
        if persist is None:
            return
        owner = self.owner
        lab, link = lab_path(owner), unit_link(owner)
        link_state = self.reader.path_state(link)
        old_link = link_state[1] if link_state and link_state[0] == 'link' else None
        old_lab, old_template = self.reader.file(lab), self.reader.file(TEMPLATE_PATH)
        engine_now = self.reader.files_under(ENGINE_DIR)
        files, links, parts = {}, {}, []
        if persist:
            try:
                template = render_unit(sys.executable)
                engine = dict((os.path.join(ENGINE_DIR, rel), source) for rel, source in engine_files().items())
            except (ValueError, ImportError) as e:
                self.error('persist', str(e))
                return
            self.want(files, parts, lab, old_lab, render_lab(owner, persist['document'], self.purge, persist['timeout']),
                      'save')
            self.want(files, parts, TEMPLATE_PATH, old_template, template, 'install')
            engine.update((path, None) for path in engine_now if path not in engine)
            changed = dict((path, source) for path, source in engine.items() if self.reader.file(path) != source)
            if changed:
                files.update(changed)
                written = len([source for source in changed.values() if source is not None])
                parts.append('%s the restore engine in %s (%d files%s)' % (
                    'update' if engine_now else 'install', ENGINE_DIR, written,
                    ', %d removed' % (len(changed) - written) if written < len(changed) else ''))
            if old_link != TEMPLATE_PATH:
                links[link] = TEMPLATE_PATH
                parts.append('enable %s' % unit_name(owner))
        elif old_lab is not None or old_link is not None:
            if old_link is not None:
                links[link] = None
                parts.append('disable %s' % unit_name(owner))
            self.want(files, parts, lab, old_lab, None, 'remove')
            if not [path for path in self.reader.files_under(LABS_DIR) if path.endswith('.json') and path != lab]:
                if old_template is not None and old_template.startswith(HEADER):
                    self.want(files, parts, TEMPLATE_PATH, old_template, None, 'remove')
                if engine_now:
                    files.update((path, None) for path in engine_now)
                    parts.append('remove the restore engine from %s' % ENGINE_DIR)
        for path in (lab, TEMPLATE_PATH):
            partial = path + PARTIAL_FILE_SUFFIX
            if partial not in files and self.reader.path_type(partial) == 'file':
                files[partial] = None
                parts.append('remove %s (a killed run was writing it)' % partial)
        if not self.ours_to_change(files, links):
            return
        self.track(lab, link, old_lab, old_link, old_template, engine_now, files, links)
        if not parts:
            return
        reload = self.reader.systemd_running()
        text = '%s lab %s: %s%s' % ('persist' if persist else 'stop persisting', owner, ', '.join(parts),
                                    ', reload systemd' if reload else '')
        paths = dict((path, None if content is None else ('file', content)) for path, content in files.items())
        paths.update((path, None if target is None else ('link', target)) for path, target in links.items())
        self.add('persist', text, INSTALL_PERSISTENCE(paths=paths, reload=reload),
                 INSTALL_PERSISTENCE(paths=dict((path, self.reader.path_state(path)) for path in paths), reload=reload))

    @staticmethod
    def want(files, parts, path, old, content, verb):
        """Plan ``path`` to hold ``content`` (None: gone), named in the action's text with ``verb``."""
        if old == content:
            return
        files[path] = content
        parts.append('%s %s' % ('update' if old is not None and content is not None else verb, path))

    def ours_to_change(self, files, links):
        """Each path the action writes is a file (a link for ``links``) or nothing, and one a person or another
        program made (the template, the bootstrap, a file where the enabling link goes) needs force."""
        fine = True
        for path, want in sorted(list(files.items()) + list(links.items())):
            kind = self.reader.path_type(path)
            expected = 'link' if path in links else 'file'
            theirs = path in (TEMPLATE_PATH, BOOTSTRAP_PATH) and not (self.reader.file(path) or '').startswith(HEADER)
            if kind is None or kind == expected and not theirs:
                continue
            if kind in ('file', 'link'):
                what = '%s %s' % ('unit' if path == TEMPLATE_PATH else 'symlink' if kind == 'link' else 'file', path)
                step = '%s %s' % ('remove' if want is None else 'replace', path)
                fine = self.check_ours('persist', what, None, [step]) and fine
            else:
                self.error('persist', '%s is a %s, where netvirt.linux keeps a %s; move it away' % (
                    path, kind, 'symlink' if expected == 'link' else 'file'))
                fine = False
        return fine

    def track(self, lab, link, old_lab, old_link, old_template, engine_now, files, links):
        """The diff: the saved lab, whether the owner's unit is enabled, the template's command line, the engine."""
        def persisted(lab_content, link_target, template, engine):
            if lab_content is None and link_target is None:
                return None
            return {'document': describe_lab(lab_content), 'unit': unit_name(self.owner),
                    'enabled': link_target == TEMPLATE_PATH, 'exec_start': exec_start(template),
                    'engine_files': len(engine)}
        engine_after = sorted(set(path for path in engine_now if files.get(path, '') is not None) |
                              set(path for path, content in files.items()
                                  if path.startswith(ENGINE_DIR + '/') and content is not None))
        before = persisted(old_lab, old_link, old_template, engine_now)
        after = persisted(files.get(lab, old_lab), links.get(link, old_link), files.get(TEMPLATE_PATH, old_template),
                          engine_after)
        if before is not None or after is not None:
            self.plan.differences.track('persist %s' % self.owner, before, after)
