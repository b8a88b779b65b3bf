{#- pre_hook of a project-keyed incremental model: delete the rows of the projects
    int_projects_changed lists before the model inserts them again, so a project whose new rows
    are fewer (or none) keeps no stale row. -#}
{% macro delete_changed_projects() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where project_code in (select changed.project_code from {{ ref('int_projects_changed') }} as changed)
    {%- endif -%}
{%- endmacro %}
