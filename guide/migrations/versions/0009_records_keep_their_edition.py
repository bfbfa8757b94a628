"""decision records keep their edition: rebuild the stored CSV lines with the edition columns

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 20:30:00

Records saved from now keep the edition of the guidance and law they were walked on in their
body (issue 11), and the CSV export gains `edition` and `edition_status` columns at the end.
Each record's CSV line is kept when it is saved; lines made before this revision have fewer
columns, so they are cleared here and the export makes them again from the record (as it does
for any record without a stored line). Nothing else changes; the records themselves are untouched.
"""
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("UPDATE decision_records SET csv_row = NULL")


def downgrade():
    op.execute("UPDATE decision_records SET csv_row = NULL")
