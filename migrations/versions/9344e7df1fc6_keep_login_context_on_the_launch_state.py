"""keep login context on the launch state

The storage frame and relaunch parameters of a login move from their own table onto the
launch_state row, so a login writes one row. Logins in progress keep their values. App
processes still running the previous release fail logins once lti_login_context is gone,
so restart every app process right after the upgrade.

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
    with op.batch_alter_table('launch_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('storage_target', sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column('relaunch_query', sa.Text(), nullable=False, server_default='')
        )
    op.execute(
        "UPDATE launch_state SET "
        "storage_target = (SELECT lti_login_context.storage_target FROM lti_login_context "
        "WHERE lti_login_context.state = launch_state.state), "
        "relaunch_query = COALESCE((SELECT lti_login_context.relaunch_query "
        "FROM lti_login_context WHERE lti_login_context.state = launch_state.state), '')"
    )

    with op.batch_alter_table('lti_login_context', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_login_context_expires_at'))
    op.drop_table('lti_login_context')


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
