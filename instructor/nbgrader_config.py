"""nbgrader configuration for the dsai masters (only needed if you use nbgrader).

Run nbgrader's commands from this folder (`cd instructor`); the masters in
source/<lesson>/<lesson>.ipynb are nbgrader assignments of one notebook each:

    nbgrader generate_assignment 01_tasks_and_actors --force
    nbgrader validate source/01_tasks_and_actors/01_tasks_and_actors.ipynb

dsai's own tools (`dsai release`, `dsai validate`, `dsai grade`) read the same
files and need none of this. Generated folders (release/, submitted/,
autograded/, feedback/, gradebook.db) are ignored by git.
"""

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

c.CourseDirectory.course_id = "dsai"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"

# The markers dsai uses: '# BEGIN SOLUTION', '# BEGIN HIDDEN TESTS' (nbgrader's
# defaults match them; stated here so a changed default cannot drift silently).
c.ClearSolutions.begin_solution_delimeter = "BEGIN SOLUTION"
c.ClearSolutions.end_solution_delimeter = "END SOLUTION"
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearHiddenTests.begin_test_delimeter = "BEGIN HIDDEN TESTS"
c.ClearHiddenTests.end_test_delimeter = "END HIDDEN TESTS"

# Lessons run a simulated cluster; give each cell time, as `dsai grade` does.
c.Execute.timeout = 60
