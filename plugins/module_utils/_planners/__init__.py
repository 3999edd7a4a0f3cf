# -*- coding: utf-8 -*-
# Copyright: netvirt.linux contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The planning of each kind of object, one file each; _plan runs them over a whole document.

PRIVATE: not a public API of the collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type
