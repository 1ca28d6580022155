"""The Lessons page: the lessons' shared runs, a step's view, classroom mode and a
class's predictions counted."""
