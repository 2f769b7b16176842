"""keep login context on the launch state

The storage frame and relaunch parameters of a login move from their own table onto the
launch_state row, so a login writes one row. Logins in progress during the upgrade lose
only their "open in a new window" link.

Revision ID: 9344e7df1fc6
Revises: a06970997c57
Create Date: 2026-12-04 18:39:43.312960

"""
from alembic import op
import sqlalchemy as sa

import lti_ilp.extensions


# revision identifiers, used by Alembic.
revision = '9344e7df1fc6'
down_revision = 'a06970997c57'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('lti_login_context', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_login_context_expires_at'))

    op.drop_table('lti_login_context')
    with op.batch_alter_table('launch_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('storage_target', sa.String(length=64), nullable=True))
        # The server default fills rows of logins in progress; new rows set the value.
        batch_op.add_column(
            sa.Column('relaunch_query', sa.Text(), nullable=False, server_default='')
        )
    with op.batch_alter_table('launch_state', schema=None) as batch_op:
        batch_op.alter_column('relaunch_query', server_default=None)


def downgrade():
    with op.batch_alter_table('launch_state', schema=None) as batch_op:
        batch_op.drop_column('relaunch_query')
        batch_op.drop_column('storage_target')

    op.create_table('lti_login_context',
    sa.Column('state', sa.String(length=64), nullable=False),
    sa.Column('storage_target', sa.String(length=64), nullable=True),
    sa.Column('relaunch_query', sa.Text(), nullable=False),
    sa.Column('expires_at', lti_ilp.extensions.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('state', name=op.f('pk_lti_login_context'))
    )
    with op.batch_alter_table('lti_login_context', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_login_context_expires_at'), ['expires_at'], unique=False)
