"""A corpus of fictional plan documents and what the importer should read from each.

:mod:`.documents` holds the documents (a light markup, see :mod:`.render`) with their expected results;
:mod:`.render` builds each as the file a planner would upload — a Word document with heading styles, with
direct formatting only, or with Word's automatic numbering, a text file, or a PDF converted from Word by
LibreOffice — at test time, so no binary is committed. ``python -m tests.imports.score`` scores the
importer on them (and on the seed documents of ../shared/seeds).
"""
