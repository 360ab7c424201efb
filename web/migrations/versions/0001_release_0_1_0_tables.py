"""the tables of release 0.1.0 (decision log, policy store, users, audit)

Revision ID: 0001
Revises: 
Create Date: 2026-12-02

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = '0001'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _missing(name: str) -> bool:
    return not sa.inspect(op.get_bind()).has_table(name)


def upgrade() -> None:
    """The tables as release 0.1.0 created them with create_all; a database of that release that holds only some
    of them (the decision log used on its own) gets the others."""
    if _missing('audit_log'):
        op.create_table('audit_log',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('user', sa.String(length=80), nullable=False),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('region', sa.String(length=40), nullable=True),
        sa.Column('target', sa.String(length=80), nullable=True),
        sa.Column('remote', sa.String(length=64), nullable=True),
        sa.Column('detail', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
        sa.PrimaryKeyConstraint('id')
        )
    if _missing('decisions'):
        op.create_table('decisions',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('region', sa.String(length=40), nullable=False),
        sa.Column('policy_version', sa.String(length=80), nullable=False),
        sa.Column('as_of', sa.String(length=10), nullable=False),
        sa.Column('request', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
        sa.Column('result', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
        sa.PrimaryKeyConstraint('id')
        )
    if _missing('policy_live'):
        op.create_table('policy_live',
        sa.Column('region', sa.String(length=40), nullable=False),
        sa.Column('version_id', sa.String(length=40), nullable=False),
        sa.Column('generation', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('region')
        )
    if _missing('policy_live_history'):
        op.create_table('policy_live_history',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('region', sa.String(length=40), nullable=False),
        sa.Column('version_id', sa.String(length=40), nullable=False),
        sa.Column('since', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id')
        )
        with op.batch_alter_table('policy_live_history', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_policy_live_history_region'), ['region'], unique=False)

    if _missing('policy_versions'):
        op.create_table('policy_versions',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('region', sa.String(length=40), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('files', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
        sa.Column('bases', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
        sa.Column('content_hash', sa.String(length=80), nullable=False),
        sa.Column('policy_version', sa.String(length=80), nullable=False),
        sa.Column('author', sa.String(length=80), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('parent', sa.String(length=40), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('approved_by', sa.String(length=80), nullable=True),
        sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id')
        )
        with op.batch_alter_table('policy_versions', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_policy_versions_policy_version'), ['policy_version'], unique=False)
            batch_op.create_index(batch_op.f('ix_policy_versions_region'), ['region'], unique=False)

    if _missing('users'):
        op.create_table('users',
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('regions', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('name'),
        sa.UniqueConstraint('token_hash')
        )


def downgrade() -> None:
    """An empty database."""
    op.drop_table('users')
    with op.batch_alter_table('policy_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_policy_versions_region'))
        batch_op.drop_index(batch_op.f('ix_policy_versions_policy_version'))

    op.drop_table('policy_versions')
    with op.batch_alter_table('policy_live_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_policy_live_history_region'))

    op.drop_table('policy_live_history')
    op.drop_table('policy_live')
    op.drop_table('decisions')
    op.drop_table('audit_log')
